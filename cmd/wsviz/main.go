// Command wsviz shows what really happens on a WebSocket connection, packet
// by packet: it decodes captures (or live traffic) into annotated events and
// shows them as JSON Lines or as a timeline in the browser.
//
// Usage:
//
//	wsviz events -r FILE       decode a capture into JSON Lines on stdout
//	wsviz ui -r FILE           open the timeline in the browser
//	wsviz FILE                 shortcut for wsviz ui -r FILE
//
// Run "wsviz help" for every command and "wsviz CMD -h" for its flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
)

// command is one subcommand. Each lives in its own file and registers
// itself in init, so that files for different commands never touch each
// other.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary: summary, run: run}
}

// errUsage marks an error whose message has already been printed with the
// usage text.
var errUsage = errors.New("usage")

// exitError ends a command with a status of its own (wsviz diff: 1 for
// "they differ", 2 for an error); Err, when not nil, is printed first.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

func main() {
	if os.Getenv("GOGC") == "" {
		// The decoder's live heap is small and steady (batches in flight,
		// compression histories); with Go's default of 100 the heap grows
		// to twice it between collections, so a long capture's peak RSS
		// would depend on when the last collection happened. 50 keeps peak
		// RSS at 1.5× the live heap for a few more collections (well under
		// 1% of the CPU time); GOGC in the environment still wins.
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent is the garbage collector's target (see runtime/debug.SetGCPercent)
// unless GOGC is set.
const gcPercent = 50

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name, rest := args[0], args[1:]
	cmd, ok := commands[name]
	if !ok {
		// "wsviz FILE" is a shortcut for "wsviz ui -r FILE".
		if ui, found := commands["ui"]; found && len(args) == 1 && !strings.HasPrefix(name, "-") {
			if _, err := os.Stat(name); err == nil {
				cmd, rest, ok = ui, []string{"-r", name}, true
				name = "ui"
			}
		}
	}
	if !ok {
		fmt.Fprintf(stderr, "wsviz: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	if err := cmd.run(rest, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if ee := (*exitError)(nil); errors.As(err, &ee) {
			if ee.Err != nil && !errors.Is(ee.Err, errUsage) {
				fmt.Fprintf(stderr, "wsviz %s: %v\n", name, ee.Err)
			}
			return ee.Code
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "wsviz %s: %v\n", name, err)
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wsviz shows what really happens on a WebSocket connection, packet by packet.")
	fmt.Fprintln(w, "\nUsage:\n\twsviz COMMAND [flags]\n\twsviz FILE    (shortcut for wsviz ui -r FILE)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "\t%-*s %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun wsviz COMMAND -h for a command's flags.")
}
