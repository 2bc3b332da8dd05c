// Package sweep finds dead actions: pending actions whose River job ended
// (discarded after its last attempt, or cancelled) without the executor
// recording an outcome, and records them failed.
//
// An executor records every final outcome itself, the last attempt's
// failure included, before River finalizes the job. What escapes it is a
// run that never got to record: the process was killed during the job's
// last attempt and River's rescuer discarded the job, or recording failed
// (the database was unreachable), or an operator cancelled the job. Such an
// action would stay pending forever; the sweep, a River periodic job on the
// leader, marks it failed, with an audit entry, so that ListActions shows
// it among the dead ones.
package sweep
