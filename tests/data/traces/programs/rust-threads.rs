// rust-threads.rs: a HashMap filled with 100,000 updates and 3 threads summing 200,000 numbers each; what matters is
// its build: `rustc -O -C codegen-units=4` (LLVM codegen threads, then cc and rust-lld linking through temporary files).
use std::collections::HashMap;
fn main() {
    let mut m = HashMap::new();
    for i in 0..100000u64 { *m.entry(i % 977).or_insert(0u64) += i; }
    let handles: Vec<_> = (0..3).map(|t| std::thread::spawn(move || (0..200000u64).map(|x| x * t).sum::<u64>())).collect();
    let s: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("{} {}", m.len(), s);
}
