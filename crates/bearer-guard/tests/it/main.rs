//! bearer-guard's integration tests.
