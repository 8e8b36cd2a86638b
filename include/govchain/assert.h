/*
 * GOV_ASSERT: an internal invariant, checked in every build (release included).
 *
 * Input from outside is validated at the edge with a reason for rejecting it; past that
 * edge, code asserts. An assertion that fails stops the process: a node that stops is a
 * fault PBFT tolerates, a node that runs on with corrupted state is not.
 */
#ifndef GOVCHAIN_ASSERT_H
#define GOVCHAIN_ASSERT_H

_Noreturn void gov_assert_fail(const char *condition, const char *file, int line);

#define GOV_ASSERT(condition) \
    ((condition) ? (void)0 : gov_assert_fail(#condition, __FILE__, __LINE__))

#endif
