//go:build !unix

package main

import "os"

// notifyAlarm does nothing: there is no SIGALRM here.
func notifyAlarm(chan<- os.Signal) {}
