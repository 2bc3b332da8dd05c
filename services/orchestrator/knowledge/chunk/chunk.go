package chunk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alexus-platform/alexus/internal/graph"
)

// Defaults of Options.
const (
	DefaultMaxChars      = 2000
	DefaultOverlap       = 150
	DefaultMaxFileBytes  = 1 << 20
	DefaultMaxFenceChars = 60_000
	// TitleSeparator joins the headings of a chunk's title.
	TitleSeparator = " > "
)

// Options tune Split. The zero value means every default.
type Options struct {
	// MaxChars caps a chunk's body in characters (runes), overlap included;
	// 0 means DefaultMaxChars. At least 20.
	MaxChars int
	// Overlap is how many characters of the previous chunk of the same
	// section a chunk may repeat; 0 means DefaultOverlap, negative none.
	// At most MaxChars/4.
	Overlap int
	// MaxFileBytes refuses larger files; 0 means DefaultMaxFileBytes.
	MaxFileBytes int
	// MaxFenceChars refuses files with a longer code fence; 0 means
	// DefaultMaxFenceChars. At most graph.MaxBodyLen/4, so a fence fits a
	// node's body whatever its characters.
	MaxFenceChars int
}

func (o Options) withDefaults() Options {
	if o.MaxChars == 0 {
		o.MaxChars = DefaultMaxChars
	}
	switch {
	case o.Overlap == 0:
		o.Overlap = min(DefaultOverlap, o.MaxChars/4)
	case o.Overlap < 0:
		o.Overlap = 0
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFenceChars == 0 {
		o.MaxFenceChars = DefaultMaxFenceChars
	}
	return o
}

// Validate names the first bad field.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.MaxChars < 20 || o.MaxChars > graph.MaxBodyLen/4:
		return fmt.Errorf("chunk: max chars %d must be between 20 and %d", o.MaxChars, graph.MaxBodyLen/4)
	case o.Overlap > o.MaxChars/4:
		return fmt.Errorf("chunk: overlap %d must be at most a quarter of max chars %d", o.Overlap, o.MaxChars)
	case o.MaxFileBytes < 0:
		return fmt.Errorf("chunk: max file bytes %d must not be negative", o.MaxFileBytes)
	case o.MaxFenceChars < 0 || o.MaxFenceChars > graph.MaxBodyLen/4:
		return fmt.Errorf("chunk: max fence chars %d must be between 1 and %d", o.MaxFenceChars, graph.MaxBodyLen/4)
	}
	return nil
}

// Chunk is one piece of a file.
type Chunk struct {
	// ID is "<fileID>#<n>", n counting chunks of the file from 1.
	ID string
	// Title is the heading path, TitleSeparator-joined, at most
	// graph.MaxTitleLen bytes; "" before the first heading.
	Title string
	// Headings are the path's headings, outermost first.
	Headings []string
	// Anchor is the GitHub-style slug of the innermost heading, unique in
	// the file (repeats get -1, -2, ...); "" before the first heading.
	Anchor string
	// Body is the chunk's text: its first Overlap bytes repeat the end of
	// the previous chunk, the rest is the source's [Start, End).
	Body    string
	Overlap int
	// Start and End are the byte offsets in the file of the text this chunk
	// adds; chunks are in file order and do not overlap there.
	Start, End int
	// Oversize marks a chunk that is a single code fence longer than
	// MaxChars.
	Oversize bool
}

// Errors of Split.
var (
	ErrTooLarge = errors.New("chunk: file too large")
	ErrNotUTF8  = errors.New("chunk: file is not UTF-8")
)

// Split chunks a file's text. fileID names the file in the chunks' IDs.
func Split(fileID, text string, opts Options) ([]Chunk, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := graph.ValidateID(fileID); err != nil || len(fileID) > graph.MaxIDLen-12 {
		return nil, fmt.Errorf("chunk: file id %.40q must be 1-%d bytes of UTF-8 without control characters", fileID, graph.MaxIDLen-12)
	}
	if len(text) > opts.MaxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(text), opts.MaxFileBytes)
	}
	if !utf8.ValidString(text) {
		off := 0
		for off < len(text) {
			r, n := utf8.DecodeRuneInString(text[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("%w: invalid byte at offset %d", ErrNotUTF8, off)
	}
	secs, err := sections(text, opts)
	if err != nil {
		return nil, err
	}
	s := &splitter{src: text, opts: opts, fileID: fileID}
	for _, sec := range secs {
		s.section(sec)
	}
	return s.out, nil
}

// span is a byte range of the source.
type span struct{ s, e int }

// block is a paragraph or a code fence.
type block struct {
	span
	fence bool
}

type section struct {
	headings []string
	anchor   string
	blocks   []block
}

// line is one line of the source without its newline.
type line struct{ s, e int }

func lines(src string) []line {
	var out []line
	for s := 0; s < len(src); {
		e := strings.IndexByte(src[s:], '\n')
		if e < 0 {
			out = append(out, line{s, len(src)})
			break
		}
		out = append(out, line{s, s + e})
		s += e + 1
	}
	return out
}

func blank(l string) bool { return strings.TrimSpace(l) == "" }

// indent returns l without up to three leading spaces, and false when it
// has more (an indented code line, never a heading or fence).
func indent(l string) (string, bool) {
	for i := 0; i < 3 && strings.HasPrefix(l, " "); i++ {
		l = l[1:]
	}
	return l, !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t")
}

// heading returns an ATX heading's level and text.
func heading(l string) (int, string, bool) {
	l, ok := indent(strings.TrimRight(l, "\r"))
	if !ok {
		return 0, "", false
	}
	level := 0
	for level < len(l) && l[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(l) && l[level] != ' ' && l[level] != '\t') {
		return 0, "", false
	}
	text := strings.TrimSpace(l[level:])
	// A closing sequence of #s is not part of the text.
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		text = strings.TrimSpace(t)
	}
	return level, text, true
}

// fenceOpen returns the fence character and length of an opening fence.
func fenceOpen(l string) (byte, int, bool) {
	l, ok := indent(strings.TrimRight(l, "\r"))
	if !ok || len(l) < 3 || (l[0] != '`' && l[0] != '~') {
		return 0, 0, false
	}
	c, n := l[0], 0
	for n < len(l) && l[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.IndexByte(l[n:], '`') >= 0) {
		return 0, 0, false
	}
	return c, n, true
}

func fenceCloses(l string, c byte, n int) bool {
	l, ok := indent(strings.TrimRight(l, "\r"))
	if !ok {
		return false
	}
	m := 0
	for m < len(l) && l[m] == c {
		m++
	}
	return m >= n && blank(l[m:])
}

// frontMatterEnd is the offset after YAML front matter, or 0.
func frontMatterEnd(src string, ls []line) int {
	if len(ls) == 0 || strings.TrimRight(src[ls[0].s:ls[0].e], " \t\r") != "---" {
		return 0
	}
	for _, l := range ls[1:] {
		if t := strings.TrimRight(src[l.s:l.e], " \t\r"); t == "---" || t == "..." {
			return l.e
		}
	}
	return 0
}

// sections reads the source into sections of blocks.
func sections(src string, opts Options) ([]section, error) {
	ls := lines(src)
	fm := frontMatterEnd(src, ls)
	slugs := map[string]int{}
	var (
		out    []section
		cur    = section{}
		levels []int
		para   = -1 // start of the open paragraph
		paraE  int
	)
	closePara := func() {
		if para >= 0 {
			cur.blocks = append(cur.blocks, block{span: span{para, paraE}})
			para = -1
		}
	}
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		if l.e <= fm {
			continue
		}
		text := src[l.s:l.e]
		if c, n, ok := fenceOpen(text); ok {
			closePara()
			end := len(ls) - 1
			for j := i + 1; j < len(ls); j++ {
				if fenceCloses(src[ls[j].s:ls[j].e], c, n) {
					end = j
					break
				}
			}
			e := trimRightSpace(src, l.s, ls[end].e)
			if chars := utf8.RuneCountInString(src[l.s:e]); chars > opts.MaxFenceChars {
				return nil, fmt.Errorf("%w: the code fence at byte %d has %d characters, at most %d", ErrTooLarge, l.s, chars, opts.MaxFenceChars)
			}
			cur.blocks = append(cur.blocks, block{span: span{l.s, e}, fence: true})
			i = end
			continue
		}
		if level, h, ok := heading(text); ok {
			closePara()
			if len(cur.blocks) > 0 {
				out = append(out, cur)
			}
			for len(levels) > 0 && levels[len(levels)-1] >= level {
				levels = levels[:len(levels)-1]
			}
			path := append([]string(nil), cur.headings[:len(levels)]...)
			levels = append(levels, level)
			cur = section{headings: append(path, h), anchor: uniqueSlug(slugs, h)}
			continue
		}
		if blank(text) {
			closePara()
			continue
		}
		if para < 0 {
			para = l.s + len(text) - len(strings.TrimLeft(text, " \t"))
		}
		paraE = trimRightSpace(src, l.s, l.e)
	}
	closePara()
	if len(cur.blocks) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

func trimRightSpace(src string, s, e int) int {
	return s + len(strings.TrimRightFunc(src[s:e], unicode.IsSpace))
}

// Slug is the GitHub-style anchor of a heading: lower case, spaces as
// hyphens, punctuation other than - and _ dropped.
func Slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func uniqueSlug(seen map[string]int, h string) string {
	s := Slug(h)
	if s == "" {
		s = "section"
	}
	n := seen[s]
	seen[s] = n + 1
	if n == 0 {
		return s
	}
	return s + "-" + strconv.Itoa(n)
}

type splitter struct {
	src    string
	opts   Options
	fileID string
	out    []Chunk
}

func (s *splitter) runes(a, b int) int { return utf8.RuneCountInString(s.src[a:b]) }

// pieces splits a section's blocks into spans of at most max characters,
// except fences, which stay whole.
func (s *splitter) pieces(blocks []block, max int) []block {
	var out []block
	for _, b := range blocks {
		if b.fence || s.runes(b.s, b.e) <= max {
			out = append(out, b)
			continue
		}
		for _, sp := range s.splitText(b.span, max) {
			out = append(out, block{span: sp})
		}
	}
	return out
}

// splitText splits a long paragraph at sentence ends, a long sentence at
// spaces, and a long word anywhere between characters.
func (s *splitter) splitText(p span, max int) []span {
	var out []span
	for _, sent := range cut(s.src, p, sentenceEnd) {
		if s.runes(sent.s, sent.e) <= max {
			out = append(out, sent)
			continue
		}
		for _, w := range cut(s.src, sent, spaceEnd) {
			for w.s < w.e {
				e, n := w.s, 0
				for e < w.e && n < max {
					_, size := utf8.DecodeRuneInString(s.src[e:])
					e += size
					n++
				}
				out = append(out, span{w.s, e})
				w.s = e
			}
		}
	}
	return out
}

// cut splits p after each position where end reports a boundary, trimming
// the spaces between the parts.
func cut(src string, p span, end func(src string, i int) bool) []span {
	var out []span
	start := p.s
	for i := p.s; i < p.e; {
		_, size := utf8.DecodeRuneInString(src[i:])
		i += size
		if i < p.e && end(src, i) {
			if e := trimRightSpace(src, start, i); e > start {
				out = append(out, span{start, e})
			}
			for i < p.e {
				r, size := utf8.DecodeRuneInString(src[i:])
				if !unicode.IsSpace(r) {
					break
				}
				i += size
			}
			start = i
		}
	}
	if e := trimRightSpace(src, start, p.e); e > start {
		out = append(out, span{start, e})
	}
	return out
}

// sentenceEnd reports a boundary at i: after ., ! or ? followed by space.
func sentenceEnd(src string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(src[:i])
	next, _ := utf8.DecodeRuneInString(src[i:])
	return (r == '.' || r == '!' || r == '?') && unicode.IsSpace(next)
}

// spaceEnd reports a boundary at i: before a space.
func spaceEnd(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	prev, _ := utf8.DecodeLastRuneInString(src[:i])
	return unicode.IsSpace(r) && !unicode.IsSpace(prev)
}

// section packs a section's pieces into chunks, greedily, each with an
// overlap from the chunk before when it fits.
func (s *splitter) section(sec section) {
	max, ov := s.opts.MaxChars, s.opts.Overlap
	ps := s.pieces(sec.blocks, max-ov)
	title := strings.Join(sec.headings, TitleSeparator)
	if len(title) > graph.MaxTitleLen {
		title = title[:graph.MaxTitleLen]
		for !utf8.ValidString(title) {
			title = title[:len(title)-1]
		}
	}
	prev := -1 // index of the last piece of the previous chunk
	for i := 0; i < len(ps); {
		start := ps[i].s
		o := start
		if prev >= 0 && !ps[prev].fence && ov > 0 {
			o = s.overlapStart(ps[prev], start, ov)
		}
		size := s.runes(start, ps[i].e)
		if size+s.runes(o, start) > max {
			o = start // a fence alone, or a piece the overlap does not fit
		}
		budget := max - s.runes(o, start)
		j := i
		for j+1 < len(ps) {
			add := s.runes(ps[j].e, ps[j+1].e)
			if size+add > budget {
				break
			}
			size += add
			j++
		}
		end := ps[j].e
		s.out = append(s.out, Chunk{
			ID:       s.fileID + "#" + strconv.Itoa(len(s.out)+1),
			Title:    title,
			Headings: sec.headings,
			Anchor:   sec.anchor,
			Body:     s.src[o:end],
			Overlap:  start - o,
			Start:    start,
			End:      end,
			Oversize: size > max,
		})
		prev, i = j, j+1
	}
}

// overlapStart returns where the overlap before start begins: at most n
// characters back, not before the previous piece p, and at a word start;
// start itself when no word fits.
func (s *splitter) overlapStart(p block, start, n int) int {
	o := start
	for k := 0; k < n && o > p.s; k++ {
		_, size := utf8.DecodeLastRuneInString(s.src[:o])
		o -= size
	}
	if o > p.s {
		// Move to the start of the next word so none is cut.
		prev, _ := utf8.DecodeLastRuneInString(s.src[:o])
		if !unicode.IsSpace(prev) {
			i := strings.IndexFunc(s.src[o:p.e], unicode.IsSpace)
			if i < 0 {
				return start
			}
			o += i
		}
	}
	for o < p.e {
		r, size := utf8.DecodeRuneInString(s.src[o:])
		if !unicode.IsSpace(r) {
			break
		}
		o += size
	}
	if o >= p.e {
		return start
	}
	return o
}
