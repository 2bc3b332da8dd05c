// Package gate is the resolution quality gate: a while after an incident is
// resolved (48 hours by default, ALEXUS_QUALITY_GATE_DELAY) it checks
// whether the fix held.
//
// Resolving an incident inserts a River job (Schedule, called by
// incident.Store in the transaction that stores the resolution, so one is
// never stored without the other), scheduled for the resolution time plus
// the delay and unique by tenant and incident, so a redelivered resolution
// schedules it once. When it is due, the Worker looks for a recurrence:
//
//   - another incident of the same tenant whose signal arrived after the
//     resolution and within the window (the resolution time plus the delay
//     the job was scheduled with, whenever the job actually runs);
//   - with the same fingerprint (the same alert came back), or on the same
//     non-empty resource (CI) unless it was classified as a CMDB question,
//     a change notice or noise.
//
// No recurrence: the gate passes. The verdict is stored as the incident's
// quality_gate transition and its resolution quality becomes validated;
// then the resolution is written to the tenant's knowledge graph as an
// issue node (incident:<id>, with the diagnosis' probable cause) RESOLVED_BY
// a resolution node (resolution:<id>: the action Alexus ran, or "resolved by
// the source" when it ran none), and AFFECTS the resource when that is a CI
// of the graph. The reasoning stages' retrieval reads exactly these edges as
// validated resolutions of similar issues.
//
// A recurrence: the gate fails. The incident stays resolved (its alert did
// stop; the recurrence is an open incident of its own, going through the
// pipeline), its resolution quality becomes ineffective, and, in the same
// transaction, an escalate item goes to the triage queue, routed like the
// pipeline's escalations, naming the recurrence. Nothing is written to the
// graph.
//
// A resolution is the source's or a person's (SetIncidentStatus); each
// gets its own job, unique by its resolution time. A person may reopen a
// resolved incident: its pending gate then finds it unresolved, or
// resolved again at another time, and is cancelled without a verdict (the
// new resolution's own gate judges that one), and a verdict whose incident
// was reopened while the gate looked is refused (incident.RecordVerdict).
// A resolution validated before its incident was reopened stays in the
// graph.
//
// Either verdict is published on the transition feed, so GetIncident and
// WatchIncidents show it. The Worker reads time from an injected clock; a
// job that runs before its window ends (it should not) is snoozed until it
// does.
package gate
