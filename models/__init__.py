"""nlshell's model path: intent → validated plan of syscall requests."""
