package structuretest

import (
	"bytes"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is container-structure-test's YAML, schema 2.0.0, field for field.
type Config struct {
	SchemaVersion      string              `yaml:"schemaVersion"`
	GlobalEnvVars      []KeyValue          `yaml:"globalEnvVars"`
	CommandTests       []CommandTest       `yaml:"commandTests"`
	FileExistenceTests []FileExistenceTest `yaml:"fileExistenceTests"`
	FileContentTests   []FileContentTest   `yaml:"fileContentTests"`
	MetadataTest       MetadataTest        `yaml:"metadataTest"`
	LicenseTests       []LicenseTest       `yaml:"licenseTests"`
	// Taken and ignored, as by CST's tar driver: they apply to running a container.
	ContainerRunOptions yaml.Node `yaml:"containerRunOptions"`
}

// KeyValue is an env var or label (CST's EnvVar, Label).
type KeyValue struct {
	Key     string `yaml:"key"`
	Value   string `yaml:"value"`
	IsRegex bool   `yaml:"isRegex"`
}

// CommandTest is a command to run in the container.
type CommandTest struct {
	Name           string     `yaml:"name"`
	Setup          [][]string `yaml:"setup"`
	Teardown       [][]string `yaml:"teardown"`
	EnvVars        []KeyValue `yaml:"envVars"`
	ExitCode       int        `yaml:"exitCode"`
	Command        string     `yaml:"command"`
	Args           []string   `yaml:"args"`
	ExpectedOutput []string   `yaml:"expectedOutput"`
	ExcludedOutput []string   `yaml:"excludedOutput"`
	ExpectedError  []string   `yaml:"expectedError"`
	ExcludedError  []string   `yaml:"excludedError"`
}

// FileExistenceTest checks a path's presence, mode, owner and executable bits.
type FileExistenceTest struct {
	Name           string `yaml:"name"`
	Path           string `yaml:"path"`
	ShouldExist    *bool  `yaml:"shouldExist"` // default true
	Permissions    string `yaml:"permissions"`
	Uid            *int   `yaml:"uid"`
	Gid            *int   `yaml:"gid"`
	IsExecutableBy string `yaml:"isExecutableBy"`
}

// FileContentTest checks a file's bytes against regular expressions.
type FileContentTest struct {
	Name             string   `yaml:"name"`
	Path             string   `yaml:"path"`
	ExpectedContents []string `yaml:"expectedContents"`
	ExcludedContents []string `yaml:"excludedContents"`
}

// MetadataTest checks the image config.
type MetadataTest struct {
	EnvVars          []KeyValue `yaml:"envVars"`
	UnboundEnvVars   []KeyValue `yaml:"unboundEnvVars"`
	ExposedPorts     []string   `yaml:"exposedPorts"`
	UnexposedPorts   []string   `yaml:"unexposedPorts"`
	Entrypoint       *[]string  `yaml:"entrypoint"`
	Cmd              *[]string  `yaml:"cmd"`
	Workdir          string     `yaml:"workdir"`
	Volumes          []string   `yaml:"volumes"`
	UnmountedVolumes []string   `yaml:"unmountedVolumes"`
	Labels           []KeyValue `yaml:"labels"`
	User             string     `yaml:"user"`
}

// LicenseTest is CST's Debian copyright check: /usr/share/doc/*/copyright and files must
// not name a refused license (AGPL, WTFPL).
type LicenseTest struct {
	Debian bool     `yaml:"debian"`
	Files  []string `yaml:"files"`
}

func (m MetadataTest) empty() bool {
	return len(m.EnvVars)+len(m.UnboundEnvVars)+len(m.ExposedPorts)+len(m.UnexposedPorts)+
		len(m.Volumes)+len(m.UnmountedVolumes)+len(m.Labels) == 0 &&
		m.Entrypoint == nil && m.Cmd == nil && m.Workdir == "" && m.User == ""
}

// LoadConfig reads a CST YAML file; a schemaVersion other than 2.0.0, an unknown field, a
// test without a name or path is an error naming the file.
func LoadConfig(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var c Config
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if c.SchemaVersion != "2.0.0" {
		return nil, fmt.Errorf("%s: schemaVersion %q: only container-structure-test's 2.0.0 is read", file, c.SchemaVersion)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	for i, t := range c.FileExistenceTests {
		if t.Name == "" || t.Path == "" {
			return fmt.Errorf("fileExistenceTests[%d]: every test needs a name and a path", i)
		}
	}
	for i, t := range c.FileContentTests {
		if t.Name == "" || t.Path == "" {
			return fmt.Errorf("fileContentTests[%d]: every test needs a name and a path", i)
		}
	}
	for i, t := range c.CommandTests {
		if t.Name == "" || t.Command == "" {
			return fmt.Errorf("commandTests[%d]: every test needs a name and a command", i)
		}
	}
	for _, kv := range append(append([]KeyValue{}, c.MetadataTest.EnvVars...), c.MetadataTest.Labels...) {
		if kv.Key == "" {
			return fmt.Errorf("metadataTest: an env var or label has an empty key")
		}
	}
	return nil
}
