// Package images builds the images only the end-to-end cluster needs, with
// internal/image (which also builds Kube CI's own image): a step image
// holding Debian's static busybox, and a pause (sandbox) image made of the
// same layer. Both are reproducible.
package images
