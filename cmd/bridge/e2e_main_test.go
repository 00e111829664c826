package main

import (
	"os"
	"testing"
)

// childEnv switches the test binary into being the bridge: the kill test
// re-executes os.Args[0] with it set, which is faster than building the
// binary and runs exactly the code under test (with -race when the tests
// have it).
const childEnv = "LPBRIDGE_E2E_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main() // exits 1 itself when run fails
		os.Exit(0)
	}
	os.Exit(m.Run())
}
