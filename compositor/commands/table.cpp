#include "compositor/commands/commands.hpp"

#include <utility>

namespace phyllome::compositor::commands {

Handler handler_for(control::Request::Verb verb) {
    using Verb = control::Request::Verb;
    static constexpr std::pair<Verb, Handler> table[] = {
        {Verb::Status, status},         {Verb::StatusJson, status_json},     {Verb::Show, show},
        {Verb::Overlay, overlay},       {Verb::Next, next},                 {Verb::Prev, prev},
        {Verb::Start, power},           {Verb::Shutdown, power},            {Verb::Destroy, power},
        {Verb::Screenshot, screenshot}, {Verb::Identity, identity},         {Verb::Adopt, adopt},
        {Verb::Create, create},         {Verb::OutputAdd, output_add},      {Verb::OutputRemove, output_remove},
        {Verb::Remove, remove},         {Verb::Quit, quit},
        {Verb::Eject, eject},           {Verb::Lock, lock},
        {Verb::JobStart, job_start},    {Verb::Jobs, jobs},                 {Verb::JobsJson, jobs_json},
        {Verb::JobQuery, job_query},    {Verb::JobCancel, job_cancel},      {Verb::Snapshots, snapshots},
        {Verb::Usb, usb},               {Verb::UsbJson, usb_json},          {Verb::UsbAttach, usb_attach},
        {Verb::UsbDetach, usb_detach},  {Verb::UsbRemember, usb_remember},
    };
    for (const auto& [v, handler] : table)
        if (v == verb)
            return handler;
    return nullptr;
}

bool allowed_in_locked_kiosk(control::Request::Verb verb) {
    using Verb = control::Request::Verb;
    // Locking the screen protects the kiosk's guest: it is allowed too.
    return verb == Verb::Status || verb == Verb::StatusJson || verb == Verb::Screenshot || verb == Verb::Quit ||
           verb == Verb::Lock;
}

} // namespace phyllome::compositor::commands
