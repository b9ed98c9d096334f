module github.com/rules-wharf/rules_wharf/tools/dev

go 1.25.0

require (
	github.com/klauspost/compress v1.19.2
	github.com/rules-wharf/rules_wharf/tools v0.0.0
)

require (
	github.com/google/go-containerregistry v0.22.1 // indirect
	github.com/klauspost/pgzip v1.2.6 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
)

replace github.com/rules-wharf/rules_wharf/tools => ../
