// Demo data for a new station: the member villages and their accounts.
#pragma once

#include <string>
#include <vector>

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

class AccountService;

/// What seeding did, for printing.
struct DemoReport {
  bool seeded = false;                 ///< false: the database already had data, untouched
  std::vector<std::string> usernames;  ///< the demo accounts (all share one password)
};

/// Loads the demo villages and accounts (admin, cashier1, one per village named by its code)
/// into an empty database, all with `password`. Does nothing when any village exists.
DemoReport seed_demo(store::Database& database, AccountService& accounts,
                     const std::string& password);

}  // namespace yizhan::service
