package readme

import (
	"strings"
	"testing"
)

func TestShellWords(t *testing.T) {
	got, err := ShellWords(`curl -sS -w 'a b\n' -H "Host: x" https://h:8443/ a\ b`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"curl", "-sS", "-w", `a b\n`, "-H", "Host: x", "https://h:8443/", "a b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"curl x | head", "curl $HOME", "echo 'open", "a > b"} {
		if _, err := ShellWords(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
