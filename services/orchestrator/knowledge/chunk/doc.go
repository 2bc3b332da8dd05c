// Package chunk splits Markdown and plain-text knowledge files (runbooks,
// postmortems) into chunks small enough to embed and search, and finds the
// CIs each chunk names so documents can be linked to them.
//
// Split follows the file's ATX headings (# to ######): each section's text
// is chunked on its own, titled by its heading path ("Runbook: Postgres >
// Failover > Promote replica") and anchored by the GitHub-style slug of its
// heading. A section longer than Options.MaxChars is split at paragraph
// boundaries, a paragraph longer than that at sentence ends, then at spaces,
// and a chunk after the first of a section repeats up to Options.Overlap
// characters of the one before, cut at a word boundary. YAML front matter
// (a first line of ---, up to the next --- or ... line) is left out; text
// with no headings is chunked by paragraphs under an empty title. Setext
// headings (text underlined by === or ---) are read as text.
//
// Code fences (``` or ~~~) are never split, and no overlap is cut out of
// one: a fence longer than MaxChars is a chunk of its own, marked Oversize,
// the one case where a chunk exceeds MaxChars. A fence longer than
// Options.MaxFenceChars refuses the file, so every chunk fits a graph node's
// body. Files over Options.MaxFileBytes or not valid UTF-8 are refused.
//
// Mentions (or a Matcher, built once for many chunks) finds the CI names a
// text holds: case-insensitive, at word boundaries, leftmost-longest.
package chunk
