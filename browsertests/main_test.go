package browsertests

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if capturePath != "" {
		os.RemoveAll(filepath.Dir(capturePath))
	}
	os.Exit(code)
}
