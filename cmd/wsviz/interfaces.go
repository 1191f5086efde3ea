package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
)

func init() {
	register("interfaces", "list the interfaces wsviz can capture on, with their addresses (also wsviz -D)", runInterfaces)
}

func runInterfaces(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz interfaces", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wsviz -D    (or wsviz interfaces)\n\n"+
			"Lists the network interfaces, numbered like tcpdump -D, with their state and\n"+
			"addresses; give a name to -i. \"any\" captures on all of them (Linux).")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	var b strings.Builder
	for i, ifc := range ifaces {
		fmt.Fprintf(&b, "%d. %s", i+1, ifc.Name)
		if addrs, err := ifc.Addrs(); err == nil && len(addrs) > 0 {
			names := make([]string, len(addrs))
			for j, a := range addrs {
				names[j] = a.String()
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(names, ", "))
		}
		fmt.Fprintf(&b, " [%s]\n", interfaceState(ifc.Flags))
	}
	fmt.Fprintf(&b, "%d. any (all interfaces: Linux cooked capture)\n", len(ifaces)+1)
	_, err = io.WriteString(stdout, b.String())
	return err
}

// interfaceState says what tcpdump -D says of an interface: up, running,
// loopback.
func interfaceState(f net.Flags) string {
	var s []string
	if f&net.FlagUp != 0 {
		s = append(s, "up")
	} else {
		s = append(s, "down")
	}
	if f&net.FlagRunning != 0 {
		s = append(s, "running")
	}
	if f&net.FlagLoopback != 0 {
		s = append(s, "loopback")
	}
	return strings.Join(s, ", ")
}
