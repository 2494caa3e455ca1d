#include <cblas.h>
// Declared by OpenBLAS's own cblas.h; repeated so that a reference cblas.h also works.
void openblas_set_num_threads(int num_threads);
