package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary stand in for the wsviz binary: run with
// WSVIZ_TEST_MAIN=1 it is wsviz (main with its arguments), so tests can
// run the real process, with real standard streams, without building it.
func TestMain(m *testing.M) {
	if os.Getenv("WSVIZ_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// wsvizCommand returns the command that runs wsviz with args (see
// TestMain).
func wsvizCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "WSVIZ_TEST_MAIN=1")
	return cmd
}

// runWsviz runs wsviz in-process and returns its exit status and output.
func runWsviz(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}
