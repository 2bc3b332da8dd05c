package jira

import "strings"

// ADF renders plain text as an Atlassian Document Format document, the
// body REST API v3 takes for descriptions and comments: one paragraph per
// block of text between blank lines, its lines joined by hard breaks.
func ADF(text string) map[string]any {
	var paragraphs []any
	for block := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		var content []any
		for i, line := range strings.Split(strings.Trim(block, "\n"), "\n") {
			if i > 0 {
				content = append(content, map[string]any{"type": "hardBreak"})
			}
			if line != "" {
				content = append(content, map[string]any{"type": "text", "text": line})
			}
		}
		paragraphs = append(paragraphs, map[string]any{"type": "paragraph", "content": content})
	}
	if paragraphs == nil {
		paragraphs = []any{}
	}
	return map[string]any{"type": "doc", "version": 1, "content": paragraphs}
}
