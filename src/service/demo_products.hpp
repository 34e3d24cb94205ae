// Private to src/service: the demo catalog's rows.
#pragma once

#include <vector>

#include "yizhan/domain/money.hpp"

namespace yizhan::service {

/// One demo product; prices in fen (per kilogram when `unit` is "g"); shelf life 0 = none.
struct DemoProduct {
  const char* village_code;
  const char* category_code;
  const char* name;
  const char* name_en;
  const char* unit;
  domain::Fen price;
  int shelf_life_days;
  bool featured;
  const char* description;
  const char* origin;
};

const std::vector<DemoProduct>& demo_products();

}  // namespace yizhan::service
