package api

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes: docs/openapi.yaml describes exactly the
// routes the API registers, every $ref in it resolves, and its error code
// enum is the package's. docs/api.md names every route too.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                          `yaml:"openapi"`
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components map[string]map[string]yaml.Node `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete", "options", "head":
				documented[strings.ToUpper(m)+" "+path] = true
			case "parameters", "summary", "description":
			default:
				t.Errorf("%s: unknown key %q", path, m)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range routes {
		registered[rt.method+" "+rt.path] = true
	}
	for k := range registered {
		if !documented[k] {
			t.Errorf("route %s is not in docs/openapi.yaml", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("docs/openapi.yaml documents %s, which no route serves", k)
		}
	}

	// Every $ref points at a component that exists.
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i++ {
			if n.Kind == yaml.MappingNode && i%2 == 0 && n.Content[i].Value == "$ref" {
				ref := n.Content[i+1].Value
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if len(parts) != 2 || doc.Components[parts[0]] == nil {
					t.Errorf("bad $ref %q", ref)
				} else if _, ok := doc.Components[parts[0]][parts[1]]; !ok {
					t.Errorf("unresolved $ref %q", ref)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	walk(&root)

	// The error code enum.
	var codes struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `yaml:"enum"`
								} `yaml:"code"`
							} `yaml:"properties"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &codes); err != nil {
		t.Fatal(err)
	}
	want := []string{CodeBadRequest, CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeMethodNotAllowed, CodeConflict,
		CodeUnsupported, CodeTooLarge, CodeUnsupportedType, CodeThrottled, CodeInternal, CodeBusy, CodeUnavailable, CodeDraining}
	got := codes.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("error codes in openapi.yaml %v, package %v", got, want)
	}

	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range registered {
		if !strings.Contains(string(md), "`"+k+"`") {
			t.Errorf("docs/api.md does not name `%s`", k)
		}
	}
	for _, c := range want {
		if !strings.Contains(string(md), "`"+c+"`") {
			t.Errorf("docs/api.md does not list the error code `%s`", c)
		}
	}
}
