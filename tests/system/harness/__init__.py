"""Helpers for dsp's system tests: a private dockerd, a recording tap,
a dspd launcher, raw HTTP over sockets, and the docker CLIs."""
