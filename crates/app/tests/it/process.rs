// crash test: see process.rs
