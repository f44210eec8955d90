// Package winjob puts processes in Windows job objects, so that a process
// and everything it starts can be ended together: Windows has no process
// groups to signal. A process is started suspended, assigned to the job
// and only then resumed, so that nothing it starts escapes the job.
//
// It is used by the health check runner (core/check) and by heartbeat
// exec (core/jobrun); on other systems the package is empty.
package winjob
