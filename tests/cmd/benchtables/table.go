package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// table prints a Markdown table with aligned columns and writes it, with its
// title and notes, to outDir/<name>.md.
func table(name, title string, header []string, rows [][]string, notes ...string) {
	w := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	row := func(r []string) string {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			b.WriteString(" " + c + strings.Repeat(" ", w[i]-utf8.RuneCountInString(c)) + " |")
		}
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", title)
	b.WriteString(row(header) + "\n")
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	b.WriteString(row(sep) + "\n")
	for _, r := range rows {
		b.WriteString(row(r) + "\n")
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	fmt.Print("\n" + b.String())
	fmt.Fprintf(&b, "\n_measured %s_\n", time.Now().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(outDir, name+".md"), []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchtables:", err)
	}
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// noRecovery marks a run whose media did not come back within the window.
const noRecovery = time.Duration(1<<62 - 1)

func fmtGap(d time.Duration) string {
	if d == noRecovery {
		return "no recovery"
	}
	return ms(d)
}

// median of ds (the upper one for an even count); noRecovery sorts last.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}

func joinGaps(ds []time.Duration) string {
	var p []string
	for _, d := range ds {
		if d == noRecovery {
			p = append(p, "none")
		} else {
			p = append(p, fmt.Sprint(d.Round(time.Millisecond).Milliseconds()))
		}
	}
	return strings.Join(p, " / ")
}
