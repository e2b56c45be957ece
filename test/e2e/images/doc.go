// Package images builds the container images the end-to-end cluster runs,
// locally and without a registry: a step image holding Debian's static busybox,
// a pause (sandbox) image made of the same layer, and an image around any
// static binary (the operator's, a test program's). Each is written as a
// docker-archive tarball that `ctr images import` loads into containerd.
//
// The images are reproducible: file times are zero, files are sorted, and the
// configuration carries no creation time, so the same inputs give the same
// image ID.
package images
