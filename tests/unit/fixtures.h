/* Where the tree's test fixtures are (tests/fixtures): PK_TEST_FIXTURES
 * when set (tests/run.sh sets it), else the absolute path the Makefile
 * compiled in, so that a unit test runs alone from any working directory. */
#ifndef PK_TEST_FIXTURES_H
#define PK_TEST_FIXTURES_H

#include <stdlib.h>

#ifndef PK_FIXTURES_DIR
#define PK_FIXTURES_DIR "tests/fixtures"
#endif

static inline const char *pk_test_fixtures(void)
{
    const char *d = getenv("PK_TEST_FIXTURES");

    return d != NULL && d[0] != '\0' ? d : PK_FIXTURES_DIR;
}

#endif
