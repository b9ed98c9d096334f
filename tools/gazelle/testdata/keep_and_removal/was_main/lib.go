package wasmain
