// wechat_pay tests (to be written).
#include <gtest/gtest.h>
