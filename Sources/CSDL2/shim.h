#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>

// Macros Swift cannot import (casts and masks).
static const int kiosk_sdl_windowpos_undefined = SDL_WINDOWPOS_UNDEFINED;
static const Uint32 kiosk_sdl_touch_mouseid = SDL_TOUCH_MOUSEID;
