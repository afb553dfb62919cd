fn main() {
    println!("salvage");
}
