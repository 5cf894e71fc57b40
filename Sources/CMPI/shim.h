// OpenMPI for Swift: mpi.h, and its handles that are macros (which Swift cannot import) as
// functions.
#include <mpi.h>

static inline MPI_Comm rivers_mpi_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype rivers_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype rivers_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype rivers_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype rivers_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op rivers_mpi_sum(void) { return MPI_SUM; }
static inline void *rivers_mpi_in_place(void) { return MPI_IN_PLACE; }
