package reasoning

import (
	"context"
	"fmt"
	"slices"
	"strings"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// cmdbQuestion is what a CMDB question asks about its CI.
type cmdbQuestion int

const (
	askNeighbours   cmdbQuestion = iota // anything else: what the CI is connected to
	askOwners                           // who owns Y
	askDependents                       // what depends on X
	askDependencies                     // what does X depend on
	askChanges                          // what changed near Z
)

// Question patterns, tried in this order on the lower-cased question.
var (
	ownerQuestion      = mustPattern(`\b(who (owns|runs|is responsible|maintains)|owner|owned by|on[- ]call for|which team)\b`)
	dependencyQuestion = mustPattern(`\b(what does .+ (depend|rely) on|dependencies of|does .+ depend on|upstream of)\b`)
	dependentQuestion  = mustPattern(`\b(depends? on|relies on|uses|downstream of|blast radius|impact(ed)? (of|by)|affected by)\b`)
	changeQuestion     = mustPattern(`\b(chang(e|ed|es)|deploy(ed|s|ment)?|release[ds]?|modified)\b`)
)

func classifyQuestion(q string) cmdbQuestion {
	q = strings.ToLower(q)
	switch {
	case ownerQuestion.MatchString(q):
		return askOwners
	case dependencyQuestion.MatchString(q):
		return askDependencies
	case dependentQuestion.MatchString(q):
		return askDependents
	case changeQuestion.MatchString(q):
		return askChanges
	}
	return askNeighbours
}

// cmdbTraverseDepth is how far "what depends on X" follows dependencies.
const cmdbTraverseDepth = 3

// answerCMDB answers a CMDB question by graph traversal: it finds the CI the
// question names (the signal's resource, else the best CI search hit), then
// reads its owners, dependents, dependencies, recent changes or neighbours.
// The facts and their node IDs become the evidence; the answer is a plain
// sentence built from them (a model, when present, only rewords it).
func answerCMDB(ctx context.Context, kn Knowledge, sig *signalv1.Signal, c *reasoningv1.Classification) (*reasoningv1.Diagnosis, []string, error) {
	question := strings.TrimSpace(cmpOr(sig.GetDescription(), sig.GetTitle()))
	d := &reasoningv1.Diagnosis{Branch: reasoningv1.Branch_BRANCH_CMDB, Path: reasoningv1.Path_PATH_HEURISTIC}
	ci, err := findCI(ctx, kn, sig, question)
	if err != nil {
		return nil, nil, err
	}
	if ci == nil {
		d.Answer = fmt.Sprintf("No configuration item named in %q was found in the configuration graph; a person will follow up.", clipTo(question, 200))
		d.Confidence = 0.3
		return d, nil, nil
	}
	name := cmpOr(ci.GetTitle(), ci.GetId())
	d.Evidence = append(d.Evidence, &reasoningv1.Evidence{DocumentId: ci.GetId(), Summary: fmt.Sprintf("the question is about %s (%s)", name, cmpOr(ci.GetType(), "ci"))})

	var (
		nodes []*knowledgev1.Node
		verb  string
	)
	switch classifyQuestion(question) {
	case askOwners:
		res, err := kn.GetOwners(ctx, &knowledgev1.GetOwnersRequest{Id: ci.GetId()})
		if err != nil {
			return nil, nil, fmt.Errorf("read owners of %q: %w", ci.GetId(), err)
		}
		nodes, verb = res.GetOwners(), "is owned by"
	case askDependents:
		nodes, err = traverseNodes(ctx, kn, ci.GetId(), knowledgev1.Direction_DIRECTION_INCOMING, cmdbTraverseDepth, knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON)
		verb = "is depended on by"
	case askDependencies:
		nodes, err = traverseNodes(ctx, kn, ci.GetId(), knowledgev1.Direction_DIRECTION_OUTGOING, cmdbTraverseDepth, knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON)
		verb = "depends on"
	case askChanges:
		nodes, err = traverseNodes(ctx, kn, ci.GetId(), knowledgev1.Direction_DIRECTION_INCOMING, 1, knowledgev1.EdgeType_EDGE_TYPE_AFFECTS)
		// Runbooks concern a CI without being something that happened to
		// it; the rest (changes, issues, postmortems) are its history,
		// newest first.
		nodes = slices.DeleteFunc(nodes, func(n *knowledgev1.Node) bool { return n.GetType() == "runbook" })
		slices.SortStableFunc(nodes, func(a, b *knowledgev1.Node) int {
			return b.GetUpdatedAt().AsTime().Compare(a.GetUpdatedAt().AsTime())
		})
		verb = "was recently concerned by"
	default:
		nodes, err = traverseNodes(ctx, kn, ci.GetId(), knowledgev1.Direction_DIRECTION_BOTH, 1)
		verb = "is connected to"
	}
	if err != nil {
		return nil, nil, err
	}
	facts := make([]string, 0, len(nodes))
	names := make([]string, 0, len(nodes))
	for i, n := range nodes {
		if i == maxNeighbours*2 {
			break
		}
		label := cmpOr(n.GetTitle(), n.GetId())
		names = append(names, label)
		fact := fmt.Sprintf("%s %s %s (%s)", name, verb, label, n.GetId())
		facts = append(facts, fact)
		d.Evidence = append(d.Evidence, &reasoningv1.Evidence{DocumentId: n.GetId(), Summary: fact})
	}
	if len(names) == 0 {
		d.Answer = fmt.Sprintf("The configuration graph records nothing that %s %s.", name, strings.TrimPrefix(verb, "is "))
		if verb == "is owned by" {
			d.Answer = fmt.Sprintf("The configuration graph records no owner of %s.", name)
		}
	} else {
		d.Answer = fmt.Sprintf("%s %s %s.", name, verb, strings.Join(names, ", "))
		if len(nodes) > len(names) {
			d.Answer = fmt.Sprintf("%s %s %s and %d more.", name, verb, strings.Join(names, ", "), len(nodes)-len(names))
		}
	}
	// A CI found and traversed is a firm answer, whatever the classifier's
	// doubt about the wording of the question.
	d.Confidence = max(c.GetConfidence(), 0.9)
	return d, facts, nil
}

// findCI is the CI the question is about: the signal's resource when it is
// a CI's ID, else the first CI a search for the question finds.
func findCI(ctx context.Context, kn Knowledge, sig *signalv1.Signal, question string) (*knowledgev1.Node, error) {
	if r := strings.TrimSpace(sig.GetResource()); r != "" && len(r) <= maxNodeID {
		res, err := kn.GetNode(ctx, &knowledgev1.GetNodeRequest{Id: r})
		switch {
		case err == nil && res.GetNode().GetKind() == knowledgev1.NodeKind_NODE_KIND_CI:
			return res.GetNode(), nil
		case err != nil && !notFound(err):
			return nil, fmt.Errorf("read CI %q: %w", r, err)
		}
	}
	if question == "" {
		return nil, nil
	}
	res, err := kn.Search(ctx, &knowledgev1.SearchRequest{
		Text: clipTo(question, 4000), K: 1,
		Kinds: []knowledgev1.NodeKind{knowledgev1.NodeKind_NODE_KIND_CI},
		Mode:  knowledgev1.SearchMode_SEARCH_MODE_LEXICAL,
	})
	if err != nil {
		return nil, fmt.Errorf("search CIs: %w", err)
	}
	if hits := res.GetHits(); len(hits) > 0 {
		return hits[0].GetNode(), nil
	}
	return nil, nil
}

func traverseNodes(ctx context.Context, kn Knowledge, id string, dir knowledgev1.Direction, depth int32, types ...knowledgev1.EdgeType) ([]*knowledgev1.Node, error) {
	res, err := kn.Traverse(ctx, &knowledgev1.TraverseRequest{Id: id, Direction: dir, Types: types, Depth: depth})
	if err != nil {
		return nil, fmt.Errorf("traverse from %q: %w", id, err)
	}
	out := make([]*knowledgev1.Node, 0, len(res.GetNeighbours()))
	for _, nb := range res.GetNeighbours() {
		out = append(out, nb.GetNode())
	}
	return out, nil
}
