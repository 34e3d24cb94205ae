// order_rules tests (to be written).
#include <gtest/gtest.h>
