package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register("version", "print wsviz's version, commit and Go version (also wsviz --version)", runVersion)
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wsviz version    (or wsviz --version)\n\n"+
			"Prints the module version and the commit wsviz was built from (from the\n"+
			"build information Go records), and the Go version and platform.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	_, err := fmt.Fprintf(stdout, "wsviz %s %s %s/%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// versionString describes the build: the module version (v1.2.3, or
// "(devel)" for a build from a work tree) and, when Go recorded them, the
// commit, its time and whether the tree had changes:
// "(devel) commit 7ca17b0d4a5e 2026-11-30T01:54:31Z modified".
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return describeBuild(info)
}

func describeBuild(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " commit " + rev
		if when != "" {
			v += " " + when
		}
		if modified {
			v += " modified"
		}
	}
	return v
}
