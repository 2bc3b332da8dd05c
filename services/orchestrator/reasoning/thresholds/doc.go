// Package thresholds keeps each tenant's confidence thresholds for the
// reasoning plane's decision and picks the ones that apply to a signal.
//
// A decision compares a confidence with two thresholds: at or above
// ExecuteAt the recommended action runs, at or above ClarifyAt a person is
// asked to confirm, and below it the signal is escalated. The plane has
// defaults for both (from its configuration); a tenant may replace them
// with rules stored in Postgres (reasoning_thresholds, under row-level
// security), each for one severity and one action kind, where an
// unspecified severity or an empty kind covers any. The most specific
// matching rule wins:
//
//	| # | severity     | action kind  |
//	|---|--------------|--------------|
//	| 1 | the signal's | the action's |
//	| 2 | the signal's | any          |
//	| 3 | any          | the action's |
//	| 4 | any          | any          |
//
// Where none matches, the plane's defaults apply.
//
// Resolve runs once per signal, so it is one query on the table's primary
// key and nothing is cached: a rule a tenant sets applies to the next
// signal on every replica.
package thresholds
