//! `tally`: a tiny item counter kept in a text file.

mod config;
mod store;

use std::process::ExitCode;

use config::load_config;
use store::Store;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match load_config(std::path::Path::new("tally.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    let mut store = match Store::open(&config.data_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    run_command(&mut store, &args)
}

/// Dispatches one subcommand.
fn run_command(store: &mut Store, args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        Some("add") => match args.get(1) {
            Some(name) => {
                store.add_item(name);
                println!("added {name}");
                ExitCode::SUCCESS
            }
            None => usage(),
        },
        Some("list") => {
            for (name, count) in store.list_items() {
                println!("{name} {count}");
            }
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: tally add NAME | tally list");
    ExitCode::from(2)
}
