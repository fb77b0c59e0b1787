//! `homevisit-server`: the team server and its admin commands.

fn main() {
    println!("homevisit-server {}", env!("CARGO_PKG_VERSION"));
}
