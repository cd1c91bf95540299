package manifests

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Which files of a folder are read, and how a file splits into documents.

// file is one manifest file found under the folder.
type file struct {
	path string // as opened
	rel  string // relative to the folder, forward slashes
}

// listFiles walks dir in lexical order. Only an unreadable dir is an error; an unreadable
// subdirectory is a Problem.
func listFiles(dir string) ([]file, []Problem, error) {
	return walkFolder(dir, nil)
}

// walkFolder is listFiles that also calls onDir with each (non-hidden) subfolder it enters,
// relative to dir, so that a watcher can follow folders that hold no manifest yet.
func walkFolder(dir string, onDir func(rel string)) ([]file, []Problem, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a directory", dir)
	}
	var files []file
	var problems []Problem
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, relErr := filepath.Rel(dir, p)
		if relErr != nil {
			rel = p
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			if p == dir {
				return err
			}
			problems = append(problems, Problem{File: rel, Message: err.Error()})
			return nil
		}
		if p == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if onDir != nil {
				onDir(rel)
			}
			return nil
		}
		if !isManifestName(d.Name()) {
			return nil
		}
		if ok, problem := isRegular(p, d); problem != "" {
			problems = append(problems, Problem{File: rel, Message: problem})
		} else if ok {
			files = append(files, file{path: p, rel: rel})
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return files, problems, nil
}

// isRegular reports a regular file. A symlinked file (as in a mounted ConfigMap) is read
// through; a symlinked directory is not followed. A dangling link is a problem.
func isRegular(p string, d fs.DirEntry) (bool, string) {
	if d.Type()&fs.ModeSymlink == 0 {
		return d.Type().IsRegular(), ""
	}
	target, err := os.Stat(p)
	if err != nil {
		return false, err.Error()
	}
	return target.Mode().IsRegular(), ""
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// isKustomization reports a kustomize file: build instructions, not an object to apply.
func isKustomization(rel string) bool {
	switch filepath.Base(rel) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// splitDocuments splits a YAML stream at "---" lines, as kubectl does, and drops documents
// that hold only comments and blank lines.
//
// A document's text is a substring of the file's, made once: the documents and the memo's
// keys share it instead of holding a copy each (about 4 MB at 10,000 documents).
func splitDocuments(rel string, data []byte) []*doc {
	var docs []*doc
	text := string(data)
	lines := bytes.SplitAfter(data, []byte("\n"))
	from, at := 0, 0 // the current document's first byte, and the current line's
	start, empty := 1, true
	flush := func() {
		if !empty {
			docs = append(docs, &doc{file: rel, index: len(docs) + 1, line: start, data: text[from:at]})
		}
	}
	for i, line := range lines {
		if isSeparator(line) {
			flush()
			from, start, empty = at+len(line), i+2, true
		} else if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			empty = false
		}
		at += len(line)
	}
	flush()
	return docs
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// yamlError rewrites the parser's document-relative line numbers into file lines.
func yamlError(d *doc, err error) string {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.Join(strings.Fields(msg), " ") // multi-line "unmarshal errors" on one line
	return yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, convErr := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if convErr != nil {
			return m
		}
		return "line " + strconv.Itoa(n+d.line-1)
	})
}
