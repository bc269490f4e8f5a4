package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryVariable keeps the README's configuration table true.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Specs() {
		if !strings.Contains(string(b), "| `"+s.Name+"` |") {
			t.Errorf("README.md's configuration table lacks %s", s.Name)
		}
	}
}
