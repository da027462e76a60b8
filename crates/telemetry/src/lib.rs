//! Access and security events, Prometheus metrics under ingress-nginx names

#![forbid(unsafe_code)]
