// Command pause is the pod sandbox image of the test node (containerd's sandbox_image):
// it holds the pod's namespaces open and exits on SIGINT or SIGTERM. Nothing can be
// pulled on our machines, so it is built from source like every other image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
