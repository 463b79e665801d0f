package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// sdkBudget is the most kefu.min.js may weigh gzipped (issue 5: ≤ 6 KiB
// for transport, protocol and API).
const sdkBudget = 6 << 10

// distFiles are the files build.mjs writes, in sorted order (the agent
// console's under console/).
var distFiles = []string{"console/console.css", "console/console.js", "console/index.html", "kefu-widget.min.js", "kefu.d.ts", "kefu.esm.js", "kefu.js", "kefu.min.js"}

func TestSizeBudget(t *testing.T) {
	min, err := dist.ReadFile("dist/kefu.min.js")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(min)
	zw.Close()
	t.Logf("kefu.min.js: %d bytes minified, %d bytes gzipped (-9); budget %d", len(min), buf.Len(), sdkBudget)
	if buf.Len() > sdkBudget {
		t.Fatalf("kefu.min.js is %d bytes gzipped, over the %d-byte budget", buf.Len(), sdkBudget)
	}
}

// TestBuildMatchesSources rebuilds the SDK into a temporary directory and
// compares it with the committed dist, byte for byte.
func TestBuildMatchesSources(t *testing.T) {
	dir := needNode(t)
	out := t.TempDir()
	runNode(t, dir, time.Minute, "build.mjs", "--outdir", out)
	var committed []string
	err := fs.WalkDir(os.DirFS(filepath.Join(dir, "dist")), ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			committed = append(committed, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(committed)
	if !slices.Equal(committed, distFiles) {
		t.Errorf("dist holds %v, want %v", committed, distFiles)
	}
	for _, name := range distFiles {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := dist.ReadFile("dist/" + name)
		if err != nil {
			t.Fatalf("dist/%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dist/%s (%d bytes) differs from a fresh build (%d bytes): run `npm ci && node build.mjs` in web/ and commit dist/", name, len(got), len(want))
		}
	}
}

// TestTypes type-checks the sources and, through sdk/test/consumer.ts, the
// committed declarations as a site's code would use them.
func TestTypes(t *testing.T) {
	dir := needNode(t)
	runNode(t, dir, time.Minute, "node_modules/typescript/bin/tsc", "-p", "tsconfig.json")
}
