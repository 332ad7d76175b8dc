// tlogcheck: an independent checker for stagegate's audit log, built on Go's
// golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's golang-golang-x-mod-dev).
// Reads JSON on stdin; exits 0 and prints "ok N" when every check passes.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	LeafData string   `json:"leafData"`
	Index    int64    `json:"leafIndex"`
	Size     int64    `json:"treeSize"`
	LeafHash string   `json:"leafHash"`
	Root     string   `json:"rootHash"`
	Proof    []string `json:"proof"`
}

type consistency struct {
	Size1 int64    `json:"size1"`
	Size2 int64    `json:"size2"`
	Root1 string   `json:"root1"`
	Root2 string   `json:"root2"`
	Proof []string `json:"proof"`
}

type input struct {
	VerifierKey string        `json:"verifierKey"`
	Checkpoint  string        `json:"checkpoint"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hash(s string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(bufio.NewReader(os.Stdin)).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	v, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open([]byte(in.Checkpoint), note.VerifierList(v))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body too short")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root := hash(lines[2])
	checked := 0
	for _, p := range in.Inclusion {
		leaf := tlog.RecordHash([]byte(p.LeafData))
		if leaf != hash(p.LeafHash) {
			fail("leaf %d: record hash of its data differs from the leaf hash", p.Index)
		}
		th := hash(p.Root)
		if p.Size == size && th != root {
			fail("proof root for size %d differs from the checkpoint", size)
		}
		if err := tlog.CheckRecord(hashes(p.Proof), p.Size, th, p.Index, leaf); err != nil {
			fail("inclusion of %d in %d: %v", p.Index, p.Size, err)
		}
		checked++
	}
	for _, c := range in.Consistency {
		if err := tlog.CheckTree(hashes(c.Proof), c.Size2, hash(c.Root2), c.Size1, hash(c.Root1)); err != nil {
			fail("consistency %d -> %d: %v", c.Size1, c.Size2, err)
		}
		checked++
	}
	fmt.Printf("ok %d\n", checked)
}
