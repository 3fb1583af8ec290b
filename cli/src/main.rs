//! `tinytune`: the command line (being built).

fn main() {
    eprintln!("tinytune: no command yet");
    std::process::exit(2);
}
