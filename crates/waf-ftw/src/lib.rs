//! go-ftw regression test loader and in-process runner for the WAF engine

#![forbid(unsafe_code)]
