module grtbench

go 1.19
