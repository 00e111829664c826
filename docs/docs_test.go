// Package docs_test keeps docs/chat-agent-api.md in step with the code that
// cites it: comments all over the module point at its sections by number,
// and a renumbered or missing section would leave them pointing at nothing.
package docs_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	// moduleRoot is the module's root as seen from this package's directory,
	// where go test runs the test.
	moduleRoot = ".."
	// reference is the API reference the code cites, relative to moduleRoot.
	reference = "docs/chat-agent-api.md"
	// outsidePath is where the reference lived before the repository carried
	// its own copy; nothing may point there any more (CI and users lack it).
	outsidePath = "/work/shared/chat-agent-api.md"
	// selfPath is this file as the walk from moduleRoot sees it.
	selfPath = moduleRoot + "/docs/docs_test.go"
)

var (
	// headingRE matches a numbered heading: "## 4. Login", "### 5.12 Data".
	headingRE = regexp.MustCompile(`^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s`)
	// citationRE matches the file name followed by a run of section numbers:
	// "§9", "§8 and §9", "§5.11-5.13, §5.16".
	citationRE = regexp.MustCompile(`chat-agent-api\.md\)?,?[ \t]*((?:§[ \t]*\d+(?:\.\d+)*(?:[ \t]*[-–][ \t]*\d+(?:\.\d+)*)?(?:[ \t]*(?:,|and|or)[ \t]*)?)+)`)
	// sectionRE picks one number or range out of a citation's run.
	sectionRE = regexp.MustCompile(`(\d+(?:\.\d+)*)(?:[ \t]*[-–][ \t]*(\d+(?:\.\d+)*))?`)
)

// headings returns the section numbers that have a heading in markdown.
func headings(markdown string) map[string]bool {
	got := map[string]bool{}
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(markdown))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil && !inFence {
			got[m[1]] = true
		}
	}
	return got
}

// citations returns the section numbers src cites as "chat-agent-api.md §N".
// A range "§5.11-5.13" stands for each section from 5.11 to 5.13.
func citations(src string) []string {
	var out []string
	for _, m := range citationRE.FindAllStringSubmatch(src, -1) {
		for _, s := range sectionRE.FindAllStringSubmatch(m[1], -1) {
			out = append(out, expand(s[1], s[2])...)
		}
	}
	return out
}

// expand lists the sections from first to last; last is "" for one section.
// Only ranges that differ in their final number are expanded (5.11-5.13);
// others stand for their two ends.
func expand(first, last string) []string {
	if last == "" || first == last {
		return []string{first}
	}
	fi, li := strings.LastIndex(first, "."), strings.LastIndex(last, ".")
	if fi != li || first[:fi+1] != last[:li+1] {
		return []string{first, last}
	}
	from, err1 := strconv.Atoi(first[fi+1:])
	to, err2 := strconv.Atoi(last[li+1:])
	if err1 != nil || err2 != nil || to < from {
		return []string{first, last}
	}
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, first[:fi+1]+strconv.Itoa(n))
	}
	return out
}

// missing returns, sorted, "file: §N" for every citation in files that has
// no heading in have.
func missing(files map[string]string, have map[string]bool) []string {
	var out []string
	for name, src := range files {
		for _, sec := range citations(src) {
			if !have[sec] {
				out = append(out, name+": §"+sec)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// goFiles reads every .go file of the module but this one, whose fixtures
// cite sections on purpose and which names the old place to look for it.
func goFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != moduleRoot && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || filepath.ToSlash(path) == selfPath {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(path)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", moduleRoot, err)
	}
	return files
}

func readReference(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, reference))
	if err != nil {
		t.Fatalf("the repository must carry its API reference: %v", err)
	}
	return string(b)
}

// TestEveryCitedSectionHasAHeading fails when code cites a section of the
// reference that the reference does not have.
func TestEveryCitedSectionHasAHeading(t *testing.T) {
	have := headings(readReference(t))
	files := goFiles(t)
	n := 0
	for _, src := range files {
		n += len(citations(src))
	}
	// The code cites the reference dozens of times; none found means the
	// walk or the pattern is broken, not that all is well.
	if n == 0 {
		t.Fatalf("found no %q citations in %d .go files", "chat-agent-api.md §N", len(files))
	}
	if miss := missing(files, have); len(miss) > 0 {
		t.Errorf("%s has no heading for these cited sections (add them; never renumber):\n%s",
			reference, strings.Join(miss, "\n"))
	}
}

// TestNothingPointsOutsideTheRepository fails when a Go file or a document
// still names the reference's old place outside the repository.
func TestNothingPointsOutsideTheRepository(t *testing.T) {
	files := goFiles(t)
	for _, doc := range []string{"README.md", reference} {
		b, err := os.ReadFile(filepath.Join(moduleRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		files[doc] = string(b)
	}
	adrs, err := filepath.Glob(filepath.Join(moduleRoot, "docs", "adr", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range adrs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.ToSlash(p)] = string(b)
	}
	for name, src := range files {
		if strings.Contains(src, outsidePath) {
			t.Errorf("%s points at %s; point at %s instead", name, outsidePath, reference)
		}
	}
}

// TestCheckCatchesMissingSections proves the check can fail: a citation of
// a section without a heading, alone, in a list or inside a range, is
// reported, and one with a heading is not.
func TestCheckCatchesMissingSections(t *testing.T) {
	have := headings("# Title\n## 4. Login\n### 4.3 Response\n### 5.11 Chat\n### 5.13 Events\n" +
		"```\n### 5.12 not a heading: inside a code block\n```\n## 9. Retry\n")
	files := map[string]string{
		"a.go": "// keepalive (chat-agent-api.md §4.3) and §9 alone is not a citation of §8\n",
		"b.go": "// Retries (chat-agent-api.md §8 and §9).\n",
		"c.go": "// Documents of chat-agent-api.md §5.11-5.13, §4.\n",
		"d.go": "// see chat-agent-api.md § 15.3\n",
	}
	got := missing(files, have)
	want := []string{"b.go: §8", "c.go: §5.12", "d.go: §15.3"}
	if !slices.Equal(got, want) {
		t.Errorf("missing = %q, want %q", got, want)
	}
}
