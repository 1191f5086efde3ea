// Package browsertests drives the wsviz timeline page in a real browser
// (Debian's Chromium, through chromedp) and measures it at scale.
//
// It is a module of its own, so that the main module does not depend on
// chromedp (as pprof keeps its browser tests in browsertests/go.mod).
//
//	cd browsertests && go test ./...          # end-to-end tests
//	go run ./cmd/uibench                      # the 400,000-message benchmark
//
// The tests skip when no browser is installed, except under CI=true, where
// a missing browser is a failure.
package browsertests

import _ "github.com/chromedp/chromedp"
