// Package pipeline moves signals from the tenants' Redis streams through
// the reasoning stages into incidents.
//
// Consumer reads every registered tenant's stream with one consumer group
// (XREADGROUP over all streams at once, ReadCount entries per stream, so
// tenants are served fairly), hands entries to a fixed pool of workers
// keyed by signal so the events of one signal stay in order, acknowledges
// an entry only after its effects are stored and published, reclaims
// entries left idle by dead consumers (XAUTOCLAIM), and moves entries that
// keep failing to the tenant's dead-letter stream. Every entry read or
// claimed is marked in flight until it is settled, so this replica never
// runs an entry twice at once, nor lets a claim overtake an entry that is
// only waiting for its worker. A stopping consumer finishes the entries it
// has started and leaves the others pending, to be reclaimed.
//
// The consumer requires a single Redis node (or all tenant streams in one
// hash slot) in this release: its one XREADGROUP names every tenant's
// stream, and each tenant's keys hash to a slot of their own, so on Redis
// Cluster the read fails with CROSSSLOT. Supporting Cluster means one read
// per hash slot, each naming only the streams of that slot.
//
// Processor is the stage machine each entry runs: it opens the incident,
// calls ClassifyIncident, Diagnose and CheckConfidence (in process, or
// through a ReasoningService client), then executes (through the
// ActionService), clarifies or escalates, queueing clarify questions and
// escalations in the triage queue; an ANSWERED event resumes a clarified
// incident at the confidence check with the person's answer. A stage that
// asked a model is stored as a transition before the next begins; stages
// answered without one are stored together with the next stored stage, in
// one transaction, and always before anything acts on a decision. So a
// redelivered entry resumes at the first stage without a stored result,
// never repeats a model call or a stored stage, and at worst reruns
// heuristic stages, which give the same answers. On an entry's first
// delivery the signal itself waits with them: the signal, its incident and
// its first stored stages go in one transaction, which a tenant's
// concurrent new signals share (incident.Store.OpenFresh, coalesced with
// package coalesce), so a burst of alerts costs Postgres a few large
// transactions rather than several small ones per signal. An entry that
// comes as new although its signal is stored (the same event twice in the
// stream, a pending list lost in a Redis failover) may ask a model once
// more before it finds what is stored; it stores and acts on nothing twice.
// When the consumer gives up on a first delivery that stored nothing, the
// signal is stored then and its incident escalated all the same. The tenant
// of every entry is the one in its stream's key, never the one its payload
// names.
//
// When the tenant's triage settings name a ticket system, the decision
// stage of an escalated incident (or of every decided one, with
// ticket_every_incident) asks for the incident's ticket: the request is
// stored with the stage, in its transaction, and package ticketsync opens
// the ticket from there, so the decision neither waits for the ticketing
// system nor fails with it.
package pipeline
