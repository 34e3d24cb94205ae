// The payment simulator (to be written).
int main() { return 0; }
