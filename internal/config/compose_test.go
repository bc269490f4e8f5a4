package config

import (
	"net"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeService is the part of a compose service these tests look at.
type composeService struct {
	Environment yaml.Node `yaml:"environment"`
	Command     yaml.Node `yaml:"command"` // a string or a list
	Ports       []string  `yaml:"ports"`
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	b, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatalf("read compose.yaml: %v", err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse compose.yaml: %v", err)
	}
	return f.Services
}

// composeEnv returns a service's environment, written either as a map
// (KEY: value) or as a list ("KEY=value", or "KEY" to pass a variable through).
func composeEnv(t *testing.T, n *yaml.Node) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch n.Kind {
	case 0: // no environment
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Tag == "!!null" {
				env[k.Value] = ""
				continue
			}
			env[k.Value] = v.Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			env[k] = v
		}
	default:
		t.Fatalf("line %d: environment must be a map or a list", n.Line)
	}
	return env
}

func TestComposeServices(t *testing.T) {
	services := loadCompose(t)
	for _, name := range []string{"postgres", "redis", "minio", "ucc"} {
		if _, ok := services[name]; !ok {
			t.Errorf("compose.yaml has no %q service", name)
		}
	}
	// Pending views must survive a Redis restart.
	if cmd := commandLine(services["redis"].Command); !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--appendfsync always") {
		t.Errorf("compose.yaml's redis runs %q: want an append-only file synced on every write", cmd)
	}
}

func TestComposeUCCEnvironmentIsKnown(t *testing.T) {
	known := map[string]bool{}
	for _, s := range Specs() {
		known[s.Name] = true
		if s.Secret {
			known[s.Name+"_FILE"] = true
		}
	}
	ucc, ok := loadCompose(t)["ucc"]
	if !ok {
		t.Fatal(`compose.yaml has no "ucc" service`)
	}
	env := composeEnv(t, &ucc.Environment)
	if len(env) == 0 {
		t.Fatal("the ucc service sets no environment")
	}
	for k := range env {
		if strings.HasPrefix(k, "UCC_") && !known[k] {
			t.Errorf("compose.yaml sets %s for ucc, which config.Specs() does not declare", k)
		}
	}
	// No published key: serve refuses compose's old example key, and there
	// is no default for anyone to copy.
	if k := env["UCC_SECRET_KEY"]; !strings.HasPrefix(k, "${UCC_SECRET_KEY:?") {
		t.Errorf("ucc UCC_SECRET_KEY = %q, want ${UCC_SECRET_KEY:?...} (required, no default)", k)
	}
	for _, k := range exampleSecretKeys {
		if strings.Contains(env["UCC_SECRET_KEY"], k) {
			t.Errorf("compose.yaml still carries the example key %q", k)
		}
	}
	// UCC's port on the loopback interface unless the operator says otherwise.
	if len(ucc.Ports) != 1 || !strings.HasPrefix(ucc.Ports[0], "${UCC_PUBLISH:-127.0.0.1:8080}:") {
		t.Errorf("ucc ports = %q, want 127.0.0.1:8080 by default", ucc.Ports)
	}
	if got := env["UCC_STORAGE"]; got != "s3" {
		t.Errorf("ucc UCC_STORAGE = %q, want s3", got)
	}
	host, _, err := net.SplitHostPort(env["UCC_S3_ENDPOINT"])
	if err != nil || host != "minio" {
		t.Errorf("ucc UCC_S3_ENDPOINT = %q, want host:port of the minio service (minio:9000)", env["UCC_S3_ENDPOINT"])
	}
}

// TestDockerfileInstallsFFmpeg checks that the runtime stage (after the last
// FROM) installs ffmpeg, which transcoding needs.
func TestDockerfileInstallsFFmpeg(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	// Join continuation lines so that each instruction is one line.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var runtime []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			runtime = nil
		}
		runtime = append(runtime, line)
	}
	for _, line := range runtime {
		if strings.HasPrefix(strings.ToUpper(line), "RUN ") &&
			strings.Contains(line, "install") && strings.Contains(line, "ffmpeg") {
			return
		}
	}
	t.Error("the Dockerfile's runtime stage does not install ffmpeg (want a RUN ... install ... ffmpeg after the last FROM)")
}

// commandLine flattens a compose command, written as a string or a list.
func commandLine(n yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = c.Value
		}
		return strings.Join(parts, " ")
	}
	return n.Value
}
