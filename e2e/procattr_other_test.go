//go:build !linux

package e2e

import "os/exec"

// setParentDeath does nothing where there is no parent-death signal; the
// servers still stop when the tests close their stdin.
func setParentDeath(*exec.Cmd) {}
